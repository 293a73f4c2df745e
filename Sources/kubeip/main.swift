print("kubeip")
