"""End-to-end test of the OTLP intake with the OpenTelemetry Python SDK and its OTLP/HTTP exporters.

An application's LDV spans (dpl.core.* attributes) and its audit-log records (enduser.id) go through
the real exporters (protobuf, gzip) to a running `lekdicht serve`; `lekdicht timeline` and
`lekdicht accessed` must then show the joined events with the right actor, subject and system. A
span whose audit record never comes is stored with the unknown actor after the join wait. A server
killed with SIGKILL right after acknowledging loses nothing it acknowledged.

The Python OTLP/HTTP exporters send protobuf only; OTLP/JSON is covered by
crates/lekdicht/tests/otlp.rs, which sends JSON written after the OTLP specification's encoding.

Usage: python3 tests/otlp/ldv_e2e.py PATH-TO-LEKDICHT-BINARY
Exits non-zero on the first failed check.
"""

import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import LogExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

BIN = sys.argv[1]
ORG = "gemeente-test"
PASSWORD = "a source system password"
JOIN_WAIT_S = 3


def run(data, *args, env=None, check=True):
    full = dict(os.environ, **(env or {}))
    out = subprocess.run(
        [BIN, "--data", data, *args], capture_output=True, text=True, env=full
    )
    if check and out.returncode != 0:
        raise SystemExit(f"lekdicht {' '.join(args)} failed: {out.stderr}")
    return out


def serve(data):
    """Starts `lekdicht serve` on a free loopback port; returns the process and its base URL."""
    proc = subprocess.Popen(
        [BIN, "--data", data, "serve", "--listen", "127.0.0.1:0",
         "--otlp-join-wait", f"{JOIN_WAIT_S}s"],
        stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stderr.readline()
        match = re.search(r"http://(127\.0\.0\.1:\d+)/", line)
        if match:
            return proc, f"http://{match.group(1)}"
    proc.kill()
    raise SystemExit("lekdicht serve did not start")


class Recording(SpanExporter):
    """The real OTLP exporter, remembering what the server answered for each export."""

    def __init__(self, inner):
        self.inner = inner
        self.results = []

    def export(self, spans):
        result = self.inner.export(spans)
        self.results.append(result)
        return result

    def shutdown(self):
        self.inner.shutdown()


class Application:
    """One application's tracer (LDV spans) and audit logger, exporting to `base`."""

    def __init__(self, base, token, service):
        headers = {"Authorization": f"Bearer {token}"}
        resource = Resource.create({"service.name": service})
        self.spans = Recording(OTLPSpanExporter(
            endpoint=f"{base}/v1/traces", headers=headers, compression=Compression.Gzip))
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.tracer = self.tracer_provider.get_tracer("ldv")
        self.log_exporter = OTLPLogExporter(
            endpoint=f"{base}/v1/logs", headers=headers, compression=Compression.Gzip)
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))
        self.audit = logging.getLogger(f"audit-{service}-{id(self)}")
        self.audit.propagate = False
        self.audit.setLevel(logging.INFO)
        self.audit.addHandler(LoggingHandler(logger_provider=self.logger_provider))

    def processing(self, name, subject, activity, enduser_on_span=None):
        attributes = {
            "dpl.core.processing_activity_id": activity,
            "dpl.core.data_subject_id": subject,
            "dpl.core.data_subject_id_type": "BSN",
        }
        if enduser_on_span:
            attributes["enduser.id"] = enduser_on_span
        return self.tracer.start_span(name, attributes=attributes)

    def audit_record(self, span, employee):
        with trace.use_span(span, end_on_exit=False):
            self.audit.info("record consulted", extra={"enduser.id": employee})

    def close(self):
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")
    print(f"ok: {message}")


def events_of(data, command, key):
    out = run(data, command, key, "--json", check=False)
    if out.returncode != 0:
        return []
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def wait_for(what, predicate, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise SystemExit(f"FAILED: timed out waiting for {what}")


def main():
    data = tempfile.mkdtemp(prefix="lekdicht-otlp-")
    env = {"LEKDICHT_PASSWORD": PASSWORD}
    run(data, "user", "add", "--org", ORG, "--username", "bvh-app", "--role", "source", env=env)
    token = run(data, "token", "add", "--username", "bvh-app", "--name", "otlp", env=env).stdout.strip()
    proc, base = serve(data)
    try:
        app = Application(base, token, "BVH")
        # 1. The audit record first, then the span: joined on arrival.
        a = app.processing("view", "PSEUDO-A", "https://register.example/verwerkingen/42")
        app.audit_record(a, "E-ALICE")
        a.end()
        # 2. enduser.id on the span itself.
        b = app.processing("search", "PSEUDO-B", "https://register.example/verwerkingen/42",
                           enduser_on_span="E-BOB")
        b.end()
        # 3. The span first; its audit record follows: it waits, then is joined.
        c = app.processing("export", "PSEUDO-C", "https://register.example/verwerkingen/7")
        c.end()
        app.audit_record(c, "E-ALICE")
        # 4. No audit record ever: stored with the unknown actor after the join wait.
        d = app.processing("view", "PSEUDO-D", "https://register.example/verwerkingen/7")
        d.end()
        # 5. An ordinary span, not an LDV processing: passed over.
        app.tracer.start_span("GET /health").end()
        check(all(r == SpanExportResult.SUCCESS for r in app.spans.results),
              "the server acknowledged every span export")

        alice = wait_for("E-ALICE's two accesses",
                         lambda: (lambda e: e if len(e) == 2 else None)(events_of(data, "timeline", "E-ALICE")))
        check(sorted(e["subject"] for e in alice) == ["PSEUDO-A", "PSEUDO-C"],
              "timeline E-ALICE shows the subjects of both joined spans")
        check(all(e["system"] == "BVH" and e["organization"] == ORG for e in alice),
              "the system is the service.name and the organisation the token's")
        check({e["actor_source"] for e in alice} == {"audit_log"},
              "the actor came from the audit-log record")
        check({e["action"] for e in alice} == {"view", "export"}, "actions from the span names")
        bob = events_of(data, "timeline", "E-BOB")
        check(len(bob) == 1 and bob[0]["subject"] == "PSEUDO-B" and bob[0]["actor_source"] == "span",
              "timeline E-BOB shows the span that named its employee")
        accessed = events_of(data, "accessed", "PSEUDO-A")
        check(len(accessed) == 1 and accessed[0]["actor"] == "E-ALICE"
              and accessed[0]["purpose"] == "https://register.example/verwerkingen/42",
              "accessed PSEUDO-A finds the access with its actor and processing activity")
        unknown = wait_for("the unjoined span",
                           lambda: events_of(data, "timeline", "ldv:unknown"), seconds=JOIN_WAIT_S + 20)
        check(len(unknown) == 1 and unknown[0]["subject"] == "PSEUDO-D"
              and unknown[0]["actor_source"] == "none",
              "a span without audit record is stored with the unknown actor after the wait")
        status = run(data, "status").stdout
        check("stored without their audit record" in status and status.rstrip().endswith(": 1"),
              "lekdicht status reports the span stored without its audit record")

        # 6. Kill -9 right after acknowledgement: nothing acknowledged is lost.
        e = app.processing("view", "PSEUDO-E", "https://register.example/verwerkingen/9")
        e.end()
        f = app.processing("print", "PSEUDO-F", "https://register.example/verwerkingen/9",
                           enduser_on_span="E-CAROL")
        f.end()
        check(app.spans.results[-2:] == [SpanExportResult.SUCCESS] * 2,
              "the spans sent before the kill were acknowledged")
        app.close()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc, base = serve(data)
        app = Application(base, token, "BVH")
        carol = events_of(data, "timeline", "E-CAROL")
        check(len(carol) == 1 and carol[0]["subject"] == "PSEUDO-F",
              "the acknowledged span with its employee survived kill -9")
        app.audit_record(e, "E-DAVE")
        dave = wait_for("E-DAVE's access after the restart",
                        lambda: events_of(data, "timeline", "E-DAVE"))
        check(len(dave) == 1 and dave[0]["subject"] == "PSEUDO-E",
              "the acknowledged waiting span survived kill -9 and joined its later audit record")
        app.close()
        verify = run(data, "ledger", "verify", check=False)
        check(verify.returncode == 0, "lekdicht ledger verify: every stored event is in the ledger")
    finally:
        proc.kill()
        proc.wait()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
