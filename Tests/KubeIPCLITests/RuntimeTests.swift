@testable import KubeIPCLI
import KubeIPConfig
import KubeIPCore
import Testing

@Suite struct RuntimeTests {
    private func settings(filter: String, cloud: CloudChoice? = nil) -> Settings {
        var settings = Settings()
        settings.filter = filter
        settings.cloud = cloud
        return settings
    }

    @Test(arguments: ["Name=tag:kubeip", "Values=reserved", "Name=tag:a,Values=b;Name=nosuch-filter,Values=x"])
    func awsLookingFiltersMustParseAsAWSBeforeDetection(filter: String) {
        let error = #expect(throws: KubeIPError.self) { try Runtime.validateFilter(settings(filter: filter)) }
        #expect(error?.setting == "filter")
    }

    @Test(arguments: ["", "Name=tag:kubeip,Values=reserved", "labels.env=prod;labels.app=edge"])
    func validFiltersOfEitherCloudPass(filter: String) throws {
        try Runtime.validateFilter(settings(filter: filter))
    }

    @Test func theChosenCloudsSyntaxApplies() {
        #expect(throws: KubeIPError.self) { try Runtime.validateFilter(settings(filter: "labels.env=prod", cloud: .aws)) }
        #expect(throws: KubeIPError.self) { try Runtime.validateFilter(settings(filter: "(labels.env=prod", cloud: .gcp)) }
    }

    @Test func systemdDirectoriesTakeTheFirstOfAList() {
        let runtime = Runtime(environment: ["STATE_DIRECTORY": "/var/lib/kubeip:/var/lib/other", "RUNTIME_DIRECTORY": ""],
                              http: MetadataDouble())
        #expect(runtime.stateDirectory == "/var/lib/kubeip")
        #expect(runtime.runtimeDirectory == "/run/kubeip")
    }
}
