// KubeIPSimulator
