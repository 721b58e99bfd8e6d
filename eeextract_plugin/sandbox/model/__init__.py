"""The values the evaluator computes with: elements, images, features, collections, geometries."""
