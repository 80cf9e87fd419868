from . import hc_message_ignore, hc_message_replay
