"""TinyML model toolkit: inspect, measure, check fit, run, build and convert `.tflite` models.

Importing this package (or `inspect`, `arena`, `fit`, `manifest`, `inputs`, `runner`) never
imports TensorFlow: inspection is pure Python, running needs only the `tflite-micro` package
(`fleet[sim]`). TensorFlow (`fleet[tf]`) is imported lazily inside `build`, `convert` and
`parity`, the only modules that train, convert or compare against the TFLite interpreter.
"""
