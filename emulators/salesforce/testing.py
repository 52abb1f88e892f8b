"""Start the emulator in background threads on free ports, for tests and the demo."""

from dataclasses import dataclass

from emulators.salesforce.org import Org
from emulators.salesforce.server import Listeners


@dataclass
class RunningEmulator:
    """URLs of the running listeners, the shared org state, and ``stop()``."""

    production_url: str
    sandbox_url: str
    mydomain_url: str
    instance_url: str
    control_url: str
    org: Org
    listeners: Listeners

    def stop(self) -> None:
        self.listeners.stop()


def start_emulator(base_port: int = 0, **settings) -> RunningEmulator:
    """Run all four listeners (ports base_port..base_port+3, or free ports when 0) with optional settings."""
    org = Org()
    org.settings.update(settings)
    listeners = Listeners(org, base_port)
    listeners.start()
    return RunningEmulator(
        production_url=org.urls["production"],
        sandbox_url=org.urls["sandbox"],
        mydomain_url=org.urls["mydomain"],
        instance_url=org.urls["instance"],
        control_url=org.urls["instance"] + "/__emulator__",
        org=org,
        listeners=listeners,
    )
