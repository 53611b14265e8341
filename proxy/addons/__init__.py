"""mitmproxy addons, one per concern, each thin over `proxy/core`. The order of `chain()` is
the order of enforcement."""
