"""The "what you see" panel, in English and Chinese (Markdown)."""

from __future__ import annotations

LANGUAGES = {"English": "en", "中文": "zh"}

WHAT_YOU_SEE = {
    "en": """
**What you see**

- **The map** is the district's real street network (or a generated one), streets tinted by
  community. A **square** is the police station, a **triangle** a community police office.
- **Circles are police units** (one officer and two auxiliaries), coloured by what they do
  (legend above): green waiting at their post, red driving to a call, orange on scene, blue
  driving back. A number such as **×5** means that many units stand at the same place.
- **Diamonds are calls** waiting or being handled, coloured by type; a diamond grows while it
  waits and gets a red ring after 10 minutes.
- **Click a unit** on the map to follow it: its route is drawn, and its state, call and time
  are shown under "Follow a unit".
- **Patrol coverage** (the tick box above the maps) colours each street by how often patrols
  passed it so far, pale (seldom) to dark blue (often); grey streets have not been passed yet.
- **The numbers** beside each map are that scenario's figures since the start: calls, mean
  response (call received to first unit on scene), the time by which 90% were reached, the
  share reached within 3 and 5 minutes, the share solved at the first visit, and how the units
  spent their time.
- **The charts** draw the same figures over time, one line per scenario, in the colour of its
  panel's title.
- **Before and after**: *before*, units wait at the central station and are also pulled into
  other duties and their own case work; *after* ("two teams, one room"), a unit lives in each
  community office 24 hours a day, the community's own unit is sent first, and a case team
  takes over criminal cases. Both face exactly the same calls (same seed).
- These are the model's assumptions at work, not measurements from Wuhan.
""",
    "zh": """
**你看到的是什么**

- **地图**是辖区的真实路网(或生成的路网),街道按社区着色。**方块**是派出所,**三角**是社区警务室。
- **圆点是警组**(一警两辅),颜色表示状态(见上方图例):绿色在驻点待命,红色赶往警情,
  橙色在现场处置,蓝色返回驻点。**×5** 表示同一位置有 5 个警组。
- **菱形是警情**,颜色表示类型;等待越久菱形越大,等待超过 10 分钟加红圈。
- 在地图上**点击警组**即可跟踪它:显示其路线,并在"Follow a unit"中显示状态、警情和时间分配。
- **巡逻覆盖**(地图上方的复选框)按巡逻经过的频率给街道着色,浅蓝(少)到深蓝(多);灰色街道尚未巡逻经过。
- 每张地图旁的**数字**是该方案自开始以来的结果:警情数、平均到场时间(接警到首个警组到场)、
  90% 警情的到场时间、3 分钟和 5 分钟内到场的比例、首次处置即解决的比例,以及警组的时间分配。
- **图表**按时间画出同样的指标,每个方案一条线,颜色与其面板标题相同。
- **改革前后**:改革前,警组在派出所集中待命,还被抽调做其他勤务并自己办案;改革后("两队一室"),
  每个社区警务室 24 小时驻有警组,优先派本社区警组,案件办理队接手刑事案件。
  两个方案面对完全相同的警情(相同随机种子)。
- 这些结果来自模型的假设,不是武汉的实测数据。
""",
}


def what_you_see(language: str) -> str:
    """The panel's Markdown in ``language`` ('en' or 'zh'; English for anything else)."""
    return WHAT_YOU_SEE.get(language, WHAT_YOU_SEE["en"])
