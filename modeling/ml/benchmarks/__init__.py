"""Benchmarks that need no download (METHODS.md section 6), written in the interchange format.

Both writers produce the folder layout of METHODS.md section 7::

    labels.csv                 image,label,split
    images/<name>              PNG (DecoyDigits) or DICOM (CT nodules)
    prompts/<stem>.png         0 unimportant, 128 unclear, 255 important
    explanations/<stem>.png    255 relevant, 0 not relevant (ground truth, evaluation only)

Only numpy, scikit-learn, Pillow and pydicom are imported here (never torch), so the web side can
write a demo project cheaply. Every random draw comes from one ``numpy.random.Generator`` seeded by
``seed`` in a fixed order, and files carry no timestamps: the same arguments give byte-identical
files.
"""

from modeling.ml.benchmarks.common import PROMPT_STYLES
from modeling.ml.benchmarks.ct_nodules import CT_LABELS, write_ct_nodules
from modeling.ml.benchmarks.decoy_digits import write_decoy_digits

BENCHMARKS = {"decoy-digits": write_decoy_digits, "ct-nodules": write_ct_nodules}

__all__ = ["BENCHMARKS", "CT_LABELS", "PROMPT_STYLES", "write_ct_nodules", "write_decoy_digits"]
