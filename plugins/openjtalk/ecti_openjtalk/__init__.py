"""ECTI's local TTS provider: Open JTalk (pyopenjtalk-plus) rendering 8 kHz μ-law WAV."""
