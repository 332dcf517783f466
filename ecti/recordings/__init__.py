"""Call recordings (F-REC-1, F-REC-2): what is recorded, playback only through ECTI, deletion
and retention. Recordings themselves are stored by :mod:`ecti.calls.recordings` from the
carrier's callbacks; see ``docs/recordings.md``."""


def includeme(config):
    config.include(".views")
    config.include(".jobs")
