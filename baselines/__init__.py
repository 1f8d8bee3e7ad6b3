"""What is compared: datasets, architectures, checkpoints, training of the embedded
default models, and the numbers the papers published."""
