// KubeIPSystemd
