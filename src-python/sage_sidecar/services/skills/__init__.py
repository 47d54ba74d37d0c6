"""Skills: folders of instructions (SKILL.md) and resources an agent loads when a task calls for
them. The same shape as Anthropic's Agent Skills, so existing folders import unchanged.

- `skill_md`: SKILL.md's front matter (`name`, `description`) and instructions.
- `bundle`: a .zip or an uploaded folder checked and unpacked into a staging folder.
- `store`: the skills on disk (`storage/skills/<id>/`) and their rows; per-agent enabling.
- `builtin`: the skills shipped with the app, seeded at the first start.
- `runtime`: what a reply gets: the enabled skills' names and descriptions, and the skill tools.
"""
