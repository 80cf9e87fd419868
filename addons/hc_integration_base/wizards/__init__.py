from . import hc_message_ignore
from . import hc_message_replay
from . import hc_mapping_try
from . import hc_mapping_draft
