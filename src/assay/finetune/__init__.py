"""Fine-tuning data from corrected outputs, kept apart from the eval datasets.

A correction (feedback whose value is the answer the app should have given, or the
correction field of a resolved review item) turns a production trace into a training
example: the trace's input messages followed by
the corrected answer. Training on an eval case's question makes that eval case
worthless, so every example whose question equals or nearly equals (by embedding)
the input of a case in any of the project's datasets is excluded, and the report
says which and why.
"""

from assay.finetune.export import (
    FORMATS,
    SOURCES,
    Exclusion,
    FinetuneExport,
    Skipped,
    export_corrections,
)

__all__ = [
    "FORMATS",
    "SOURCES",
    "Exclusion",
    "FinetuneExport",
    "Skipped",
    "export_corrections",
]
