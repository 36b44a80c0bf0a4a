from typing import ClassVar

from shared.settings import ServiceSettings


class ContentSettings(ServiceSettings):
    service_name: ClassVar[str] = "content"
