from . import hc_backend, hc_binding, hc_flow, hc_handler_generic, hc_message, hc_sync_mixin
