/// Renders ``SettingsTable/all`` for people: the README table, the man page's SETTINGS section
/// and the commented `/etc/kubeip/kubeip.yaml` shipped in the Debian package.
/// Output depends only on the table, so it is the same on every run.
public enum SettingsDocumentation {
    /// The renderings `kubeip settings --format` offers.
    public enum Format: String, Sendable, CaseIterable {
        case markdown, man, yaml
    }

    /// Renders `specs` in `format`.
    public static func render(_ format: Format, _ specs: [SettingSpec] = SettingsTable.all) -> String {
        switch format {
        case .markdown: markdownTable(specs)
        case .man: manSection(specs)
        case .yaml: configFile(specs)
        }
    }

    // MARK: Markdown

    /// A GitHub Markdown table, one row per setting.
    public static func markdownTable(_ specs: [SettingSpec] = SettingsTable.all) -> String {
        var lines = [
            "| Setting (file key / flag) | Environment | Default | What it does |",
            "|---|---|---|---|",
        ]
        for spec in specs {
            let name = spec.allowedInFile ? "`\(spec.key)` / `\(spec.flag)`" : "`\(spec.flag)` (not in files)"
            let environment = spec.environment.map { "`\($0)`" }.joined(separator: ", ")
            var defaultText = markdownText(spec.defaultDescription)
            if let packaged = spec.packagedValue { defaultText += " (package: `\(packaged)`)" }
            let meaning = markdownText(spec.summary) + " Accepts " + markdownText(spec.accepted)
                + ", e.g. `\(markdownCode(spec.example))`."
            lines.append("| \(name) | \(environment) | \(defaultText) | \(meaning) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func markdownText(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "|": out += "\\|"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "*", "_", "`": out += "\\" + String(c)
            default: out.append(c)
            }
        }
        return out
    }

    private static func markdownCode(_ text: String) -> String {
        text.replacing("|", with: "\\|")
    }

    // MARK: roff

    /// The SETTINGS section of kubeip(8): a `.SH` heading, a paragraph on precedence and one
    /// `.TP` entry per setting.
    public static func manSection(_ specs: [SettingSpec] = SettingsTable.all) -> String {
        var lines = [
            ".SH SETTINGS",
            roffLine("Every setting is a long flag, an environment variable and a key in "
                + "/etc/kubeip/kubeip.yaml or /etc/kubeip/conf.d/*.yaml. Flags win over the environment, "
                + "the environment wins over conf.d files (read in name order, later files win), "
                + "and those win over kubeip.yaml. An environment variable set to the empty string counts as unset. "
                + "Durations use Go's syntax: 300ms, 30s, 1m, 1h30m."),
        ]
        for spec in specs {
            lines.append(".TP")
            var tag = "\\fB" + roffText(spec.flag) + "\\fR"
            if let valueName = spec.valueName { tag += " \\fI" + roffText(valueName) + "\\fR" }
            lines.append(tag)
            lines.append(roffLine(spec.summary))
            lines.append(roffLine("Accepted: \(spec.accepted); for example ") + "\\fB" + roffText(spec.example) + "\\fR.")
            var facts = "Environment: " + spec.environment.map { "\\fB" + roffText($0) + "\\fR" }.joined(separator: ", ")
            facts += ". " + roffText(spec.allowedInFile ? "File key: " : "Not read from settings files.")
            if spec.allowedInFile { facts += "\\fB" + roffText(spec.key) + "\\fR." }
            facts += roffText(" Default: \(spec.defaultDescription).")
            if let packaged = spec.packagedValue {
                facts += roffText(" The packaged kubeip.yaml sets ") + "\\fB" + roffText(packaged) + "\\fR."
            }
            lines.append(facts)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Escapes text for roff: backslashes, hyphens as `\-`, non-ASCII as `\[uXXXX]`.
    static func roffText(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\e"
            case "-": out += "\\-"
            case _ where !scalar.isASCII:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// An escaped text line that cannot be mistaken for a request (no leading `.` or `'`).
    static func roffLine(_ text: String) -> String {
        let escaped = roffText(text)
        return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
    }

    // MARK: YAML

    /// The commented settings file the Debian package installs as /etc/kubeip/kubeip.yaml:
    /// every setting documented and commented out at its default, except those with a
    /// packaged value, which are set.
    public static func configFile(_ specs: [SettingSpec] = SettingsTable.all) -> String {
        var lines = wrapComment("kubeip settings. Every key here is also a long flag (--key) and an "
            + "environment variable. Flags win over the environment, which wins over /etc/kubeip/conf.d/*.yaml "
            + "(read in name order; later files win), which wins over this file. Put local changes in a "
            + "conf.d file so that package upgrades leave them alone. Durations use Go's syntax: "
            + "300ms, 30s, 1m, 1h30m. Run 'kubeip check' to see every value in effect and where it came from.")
        for spec in specs where spec.allowedInFile {
            lines.append("")
            lines += wrapComment(spec.summary)
            lines += wrapComment("accepted: \(spec.accepted)")
            if spec.example != spec.defaultValue && spec.example != spec.packagedValue {
                lines.append("# e.g. \(spec.key): \(spec.example)")
            }
            if let packaged = spec.packagedValue {
                lines += wrapComment("default without this line: \(spec.defaultDescription)")
                lines.append("\(spec.key): \(packaged)")
            } else if let value = spec.defaultValue {
                lines.append("# \(spec.key): \(value)")
            } else {
                lines += wrapComment("default: \(spec.defaultDescription)")
                lines.append("# \(spec.key):")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` as `# ` comment lines of at most `width` columns, breaking between words.
    static func wrapComment(_ text: String, width: Int = 100) -> [String] {
        var lines: [String] = []
        var line = "#"
        for word in text.split(separator: " ") {
            if line.count + 1 + word.count > width && line != "#" && line != "#  " {
                lines.append(line)
                line = "#  "
            }
            line += " " + word
        }
        lines.append(line)
        return lines
    }
}
