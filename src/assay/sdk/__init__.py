"""The thin client an app imports: traces to assay over OpenTelemetry, and feedback.

```python
import assay.sdk as assay

assay.init(endpoint="http://127.0.0.1:6500", api_key="ak_...", release="v12")


@assay.trace(kind="llm")
def answer(question: str) -> str: ...


with assay.span("retrieve", kind="retrieval") as s:
    s.set_documents(docs)

assay.feedback(trace_id, "thumbs", False, comment="wrong refund policy")
```

Importing this package is cheap: the OpenTelemetry SDK and exporter load in
:func:`init`, httpx in :func:`feedback`; the server stack is never imported.
"""

from assay.sdk.config import SdkHandle, init
from assay.sdk.decorator import trace
from assay.sdk.feedback import FeedbackValue, feedback, feedback_event
from assay.sdk.tracing import (
    Span,
    SpanKindName,
    current_span,
    current_trace_id,
    span,
)

__all__ = [
    "FeedbackValue",
    "SdkHandle",
    "Span",
    "SpanKindName",
    "current_span",
    "current_trace_id",
    "feedback",
    "feedback_event",
    "init",
    "span",
    "trace",
]
