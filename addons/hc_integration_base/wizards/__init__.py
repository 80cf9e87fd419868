from . import hc_message_ignore
from . import hc_message_replay
