"""DRF views of the labeling app: input serializer, one selector or service, output serializer."""
