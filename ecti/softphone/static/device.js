// The softphone's device adapter: one interface, two implementations.
//
//   const device = ECTIDevice.create({kind, simulatorUrl, sdkUrl});
//   await device.register(token)      // token from POST /api/v1/softphone/token
//   device.updateToken(token)         // before the old one expires
//   await device.answer() / decline() / hangup() / sendDigits("1") / mute(true)
//   await device.connect({To, CallerId})   // an outgoing call (the TwiML App's Voice URL decides)
//   device.onended = () => {}         // the outgoing call ended
//   device.ontokenexpiring = () => {} // the SDK asks for a new token
//   device.registered                 // whether the phone can ring now
//   device.onregistration = (state) => {}  // "registered" | "unregistered" (presence.js)
//
// "twilio" is the Twilio Voice JS SDK (loaded only then); "simulator" drives the Twilio
// simulator's control API (/sim/v1) with the same token, for the demo and the browser tests.
(function () {
  "use strict";

  const ENDED = ["completed", "busy", "failed", "no-answer", "canceled"];

  function registration(device, state) {
    device.registered = state === "registered";
    if (device.onregistration) device.onregistration(state);
  }

  class SimulatorDevice {
    constructor(options) {
      this.api = options.simulatorUrl.replace(/\/$/, "") + "/sim/v1";
      this.path = null;
      this.outgoing = null;
      this.muted = false;
      this.onended = null;
      this.ontokenexpiring = null;
    }

    async request(method, path, body) {
      const response = await fetch(this.api + path, {
        method: method,
        headers: {"Content-Type": "application/json"},
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok) throw new Error(response.status + " " + (await response.text()));
      return response.json();
    }

    async register(token) {
      const device = await this.request("POST", "/clients", {token: token});
      this.path = "/clients/" + device.account_sid + "/" + encodeURIComponent(device.identity);
      registration(this, "registered");
      return device;
    }

    updateToken(token) {
      this.token = token;  // the simulator checks a token once, when the device registers
    }

    async answer() {
      // The ACD rings the phone right after it commits the offer: wait for the ring briefly.
      for (let attempt = 0; ; attempt++) {
        const state = await this.request("GET", this.path);
        if (state.ringing) return this.request("POST", this.path + "/answer");
        if (attempt >= 20) throw new Error("no call is ringing on this phone");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    async decline() {
      const state = await this.request("GET", this.path);
      if (state.ringing) await this.request("POST", this.path + "/decline");
    }

    async hangup() {
      const state = await this.request("GET", this.path);
      if (state.active) await this.request("POST", this.path + "/hangup");
      this.finishOutgoing();
    }

    async sendDigits(digits) {
      await this.request("POST", this.path + "/digits", {digits: digits});
    }

    async mute(on) {
      this.muted = on;  // no audio in the simulator: the flag is the whole state
    }

    async connect(params) {
      const call = await this.request("POST", this.path + "/connect", {params: params});
      this.outgoing = call.sid;
      this.watch(call.sid);
      return call;
    }

    async watch(sid) {
      while (this.outgoing === sid) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        try {
          const call = await this.request("GET", "/calls/" + sid);
          if (ENDED.includes(call.status)) this.finishOutgoing();
        } catch (error) {
          this.finishOutgoing();
        }
      }
    }

    finishOutgoing() {
      if (this.outgoing === null) return;
      this.outgoing = null;
      this.muted = false;
      if (this.onended) this.onended();
    }
  }

  class TwilioDevice {
    constructor(options) {
      this.sdkUrl = options.sdkUrl;
      this.device = null;
      this.incoming = null;
      this.call = null;
      this.outgoing = null;
      this.onended = null;
      this.ontokenexpiring = null;
    }

    loadSdk() {
      if (window.Twilio && window.Twilio.Device) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = this.sdkUrl;
        script.onload = resolve;
        script.onerror = () => reject(new Error("could not load the Twilio Voice SDK"));
        document.head.append(script);
      });
    }

    async register(token) {
      await this.loadSdk();
      this.device = new window.Twilio.Device(token, {closeProtection: true, codecPreferences: ["opus", "pcmu"]});
      this.device.on("incoming", (call) => {
        this.incoming = call;
        call.on("cancel", () => { if (this.incoming === call) this.incoming = null; });
        call.on("disconnect", () => { if (this.call === call) this.call = null; });
      });
      this.device.on("tokenWillExpire", () => { if (this.ontokenexpiring) this.ontokenexpiring(); });
      this.device.on("registered", () => registration(this, "registered"));
      this.device.on("unregistered", () => registration(this, "unregistered"));
      await this.device.register();
      return {identity: this.device.identity};
    }

    updateToken(token) {
      if (this.device) this.device.updateToken(token);
    }

    async answer() {
      for (let attempt = 0; !this.incoming; attempt++) {
        if (attempt >= 50) throw new Error("no call is ringing on this phone");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      this.call = this.incoming;
      this.incoming = null;
      this.call.accept();
    }

    async decline() {
      if (this.incoming) this.incoming.reject();
      this.incoming = null;
    }

    async hangup() {
      if (this.call) this.call.disconnect();
      if (this.device) this.device.disconnectAll();
    }

    async sendDigits(digits) {
      if (this.call) this.call.sendDigits(digits);
    }

    async mute(on) {
      if (this.call) this.call.mute(on);
    }

    async connect(params) {
      const call = await this.device.connect({params: params});
      this.call = call;
      this.outgoing = call;
      call.on("disconnect", () => this.finishOutgoing(call));
      call.on("cancel", () => this.finishOutgoing(call));
      call.on("reject", () => this.finishOutgoing(call));
      call.on("error", () => this.finishOutgoing(call));
      return call;
    }

    finishOutgoing(call) {
      if (this.outgoing !== call) return;
      this.outgoing = null;
      this.call = null;
      if (this.onended) this.onended();
    }
  }

  window.ECTIDevice = {
    create(options) {
      return options.kind === "simulator" ? new SimulatorDevice(options) : new TwilioDevice(options);
    },
  };
})();
