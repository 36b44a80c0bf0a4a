from typing import ClassVar

from shared.settings import ServiceSettings

ROBOT_NICKNAMES = ("小***鱼", "快***乐", "阳***光", "星***辰", "清***风", "晴***天", "微***笑", "向***葵")


class GroupbuySettings(ServiceSettings):
    service_name: ClassVar[str] = "groupbuy"

    groupbuy_hold_seconds: int = 900  # a seat whose order is not paid within this goes back
    groupbuy_job_interval_seconds: float = 10.0  # unpaid seats, groups whose time is up, robots
    groupbuy_robot_nicknames: list[str] = list(ROBOT_NICKNAMES)  # shown for robots, masked like buyers' names
    groupbuy_robot_avatar: str = ""  # avatar URL shown for robots
