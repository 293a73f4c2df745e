// KubeIPConfig
