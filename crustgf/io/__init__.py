"""Files: the model file and its Xdmf sidecar, the Green's-function file (writer and reader), exports."""
