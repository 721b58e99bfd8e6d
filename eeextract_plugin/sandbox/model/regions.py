"""Region reductions (pixels over geometries): Image.reduceRegion, reduceRegions, sampleRegions."""
