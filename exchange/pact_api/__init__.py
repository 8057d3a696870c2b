"""The exchange as a PACT host system: the HTTP API of the PACT Technical Specifications.

Routes (see ``urls``): ``/.well-known/openid-configuration`` and ``/auth/token``
(Action Authenticate), ``/3/footprints`` (ListFootprints), ``/3/footprints/<id>``
(GetFootprint), ``/3/events`` (Action Events), and the v2.3 reads ``/2/footprints`` and
``/2/footprints/<id>`` for data recipients that still speak v2.

These are plain Django views, not DRF views: their request and response shapes are
the PACT specification's (which publishes its own OpenAPI document), so they are
deliberately absent from the platform's OpenAPI schema (``docs/openapi.yaml``).
Everything a client reads is scoped by ``exchange.selectors.visible_footprints`` of the
client's company, and every read of another company's footprint is recorded with
``exchange.sharing.record_pull``.
"""
