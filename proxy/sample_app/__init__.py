"""ACME's business systems for demos and tests: a CRM, a knowledge base, chat and reports on
loopback, full of fake but checksum-valid customer data, behind a demo CA."""

from .certificates import CertificateError, DemoCertificates, ensure_certificates
from .ground_truth import GroundTruth, LookAlike, PiiValue, ground_truth
from .server import SampleApp, SampleAppError, start_sample_app

__all__ = [
    "CertificateError",
    "DemoCertificates",
    "GroundTruth",
    "LookAlike",
    "PiiValue",
    "SampleApp",
    "SampleAppError",
    "ensure_certificates",
    "ground_truth",
    "start_sample_app",
]
