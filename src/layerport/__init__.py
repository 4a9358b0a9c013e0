"""layerport: an Amazon ECR-compatible container registry you can run anywhere."""

__version__ = "0.1.0"
