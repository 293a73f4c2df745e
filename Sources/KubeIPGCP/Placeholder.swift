// KubeIPGCP: the Google Cloud adapter.
