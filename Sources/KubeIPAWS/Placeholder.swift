// KubeIPAWS
