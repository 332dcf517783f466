"""The Twilio voice provider: <Say> with Japanese voices and SSML prosody for the settings."""
from xml.etree import ElementTree

import pytest

from ecti.errors import UserError
from ecti.interfaces import VoiceSettings
from ecti.plugins import Registries, get_plugin_manager
from ecti.voice.instructions import Gather, Continuation, Say
from ecti_twilio.tts import TwilioSay, prosody_attributes
from ecti_twilio.twiml import TwiMLRenderer

TEXT = "お電話ありがとうございます。"


def twiml(*instructions):
    return ElementTree.fromstring(TwiMLRenderer(lambda c: f"https://ecti.example/{c.handler}").render(instructions))


def test_hook_ecti_tts_providers_registers_the_twilio_voice():
    provider = Registries.collect(get_plugin_manager()).tts_providers["twilio"]
    assert isinstance(provider, TwilioSay)
    assert provider.output == "carrier"
    assert provider.voices[0][0] == "Polly.Mizuki"


def test_it_renders_a_say_that_twilio_speaks_with_the_chosen_voice():
    say = TwilioSay().render(TEXT, VoiceSettings(voice="Google.ja-JP-Wavenet-B"))
    element = twiml(say).find("Say")
    assert element.get("voice") == "Google.ja-JP-Wavenet-B" and element.get("language") == "ja-JP"
    assert element.text == TEXT
    assert element.find("prosody") is None  # default settings: plain <Say>, no SSML


def test_speed_pitch_and_volume_become_ssml_prosody():
    say = TwilioSay().render(TEXT, VoiceSettings(voice="Polly.Mizuki", speed=1.2, pitch=2, volume=-3))
    prosody = twiml(say).find("Say/prosody")
    assert prosody.attrib == {"rate": "120%", "pitch": "+12%", "volume": "-3dB"}
    assert prosody.text == TEXT


@pytest.mark.parametrize("emotion, expected", [
    ("joy", {"rate": "110%", "pitch": "+12%", "volume": "+1dB"}),
    ("sadness", {"rate": "85%", "pitch": "-11%", "volume": "-3dB"}),
    ("anger", {"rate": "105%", "pitch": "-6%", "volume": "+4dB"}),
    ("normal", {}),
])
def test_emotions_are_the_documented_prosody_presets(emotion, expected):
    assert prosody_attributes("Polly.Mizuki", VoiceSettings(emotion=emotion)) == expected


def test_neural_polly_voices_get_no_pitch_but_keep_rate_and_volume():
    assert prosody_attributes("Polly.Kazuha-Neural", VoiceSettings(emotion="joy")) == {"rate": "110%", "volume": "+1dB"}


def test_prosody_also_works_inside_a_gather_and_escapes_the_text():
    say = Say("1番<ご案内> & 2番", settings=VoiceSettings(speed=0.8))
    document = twiml(Gather(Continuation("menu"), prompts=[say]))
    prosody = document.find("Gather/Say/prosody")
    assert prosody.text == "1番<ご案内> & 2番"
    assert prosody.attrib == {"rate": "80%"}


@pytest.mark.parametrize("settings, code", [
    (VoiceSettings(voice="Polly.Nobody"), "tts_unknown_voice"),
    (VoiceSettings(intonation=1.5), "tts_intonation_unsupported"),
    (VoiceSettings(voice="Polly.Tomoko-Neural", pitch=2), "tts_pitch_unsupported"),
])
def test_settings_twilio_cannot_speak_are_refused_with_a_reason(settings, code):
    with pytest.raises(UserError) as refused:
        TwilioSay().validate(TEXT, settings)
    assert refused.value.code == code


def test_a_fallback_say_without_a_voice_uses_the_default_japanese_voice():
    element = twiml(Say(TEXT, settings=VoiceSettings(voice="", emotion="sadness"))).find("Say")
    assert element.get("voice") == "Polly.Mizuki"
    assert element.find("prosody").get("rate") == "85%"
