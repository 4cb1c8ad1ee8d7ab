# JupyterHub configuration for a Large-Model Engineering Lab workshop.
#
#   make hub                      # local try on http://127.0.0.1:8000 (see workshop/README.md)
#   .venv/bin/jupyterhub -f workshop/jupyterhub_config.py
#
# Every setting can be changed with an environment variable (LABKIT_HUB_*) so that the same file
# serves the local try, the test (tests/test_hub.py) and a classroom server. What it sets up:
#   - FirstUseAuthenticator: a learner picks a password at first login; allowed names only.
#   - each learner's own student copy of the notebooks, written by `labkit student` on first
#     login (pre_spawn_hook) and never overwriting the learner's edits on later logins;
#   - per-learner LABKIT_HOME, so checks and quiz answers are recorded per learner;
#   - an instructor (admin) who grades with `python workshop/grade_all.py` (collect + labkit grade);
#   - jupyterhub-idle-culler stops servers idle for LABKIT_HUB_IDLE_TIMEOUT seconds;
#   - memory/CPU limits per learner: set here, ENFORCED ONLY BY SPAWNERS THAT SUPPORT THEM
#     (SystemdSpawner, KubeSpawner); the local spawner used by default does not enforce them.
import asyncio
import os
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

ROOT = Path(__file__).resolve().parent.parent            # the course repository
BIN = Path(sys.executable).parent                        # the venv JupyterHub runs from
STATE = Path(os.environ.get("LABKIT_HUB_STATE", ROOT / "workshop" / "state")).resolve()
HOMES = STATE / "home"                                   # one folder per learner (local spawner)
IP = os.environ.get("LABKIT_HUB_IP", "127.0.0.1")        # 127.0.0.1: nothing reachable from outside
PORT = int(os.environ.get("LABKIT_HUB_PORT", "8000"))
INSTRUCTORS = {u for u in os.environ.get("LABKIT_HUB_INSTRUCTORS", "instructor").split(",") if u}
LEARNERS = {u for u in os.environ.get("LABKIT_HUB_USERS", "").split(",") if u}
IDLE_TIMEOUT = int(os.environ.get("LABKIT_HUB_IDLE_TIMEOUT", "3600"))
STATE.mkdir(parents=True, exist_ok=True)
HOMES.mkdir(parents=True, exist_ok=True)

# ------------------------------------------------------------------ network: 127.0.0.1 only
c.JupyterHub.bind_url = f"http://{IP}:{PORT}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("LABKIT_HUB_HUB_PORT", "8081"))
proxy = ROOT / "workshop" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [str(proxy)]           # installed by `make hub` (npm, workshop/node)
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('LABKIT_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")

# ------------------------------------------------------------------ who may log in
# FirstUseAuthenticator (from the JupyterHub project): the first login with an allowed name sets
# that name's password; later logins must use it. No sign-up form, no e-mail, no approval queue —
# right for a room where the instructor hands out names. NativeAuthenticator adds self sign-up with
# admin approval; better for a long-running server, more clicks for a one-day workshop.
c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
c.FirstUseAuthenticator.dbm_path = str(STATE / "passwords.dbm")
c.FirstUseAuthenticator.create_users = True
c.FirstUseAuthenticator.min_password_length = 8
c.Authenticator.admin_users = INSTRUCTORS
if LEARNERS:
    c.Authenticator.allowed_users = LEARNERS | INSTRUCTORS
else:  # a local try with no list: any name may claim an account (only 127.0.0.1 can reach it)
    c.Authenticator.allow_all = IP == "127.0.0.1"
    c.Authenticator.allowed_users = INSTRUCTORS


# ------------------------------------------------------------------ one server per learner
class CourseSpawner(SimpleLocalProcessSpawner):
    """Runs each learner's JupyterLab as the hub's own OS user, in a home folder of their own.

    Chosen for the local try and the test: it needs no system accounts (no root, no useradd).
    It keeps learners' files apart by folder, NOT by OS permissions: a learner's terminal could
    read another's folder. For a real room use The Littlest JupyterHub (SystemdSpawner, one
    system user per learner) or Zero to JupyterHub (KubeSpawner, one pod per learner).
    """
    home_dir_template = str(HOMES / "{username}")


c.JupyterHub.spawner_class = CourseSpawner
c.Spawner.ip = "127.0.0.1"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab/tree/course/00_welcome.ipynb"
c.Spawner.args = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    f"--LabApp.app_settings_dir={ROOT / 'labkit' / 'lab_settings'}",
] + (["--allow-root"] if os.geteuid() == 0 else []) \
  + (["--LabApp.expose_app_in_browser=True"] if os.environ.get("LABKIT_HUB_TEST") == "1" else [])
c.Spawner.environment = {
    "LABKIT_HOME": lambda sp: str(Path(sp.home_dir) / ".labkit"),   # progress per learner
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
}
if os.environ.get("LABKIT_LANG"):
    c.Spawner.environment["LABKIT_LANG"] = os.environ["LABKIT_LANG"]
c.Spawner.start_timeout = 180      # a loaded 2-core machine needs a while to start JupyterLab
c.Spawner.http_timeout = 180
# Per-learner limits, a first guess from `make capacity` (workshop/README.md): notebook 00's kernel
# peaks at ~0.83 GB; confirm with a full run before a class. LocalProcessSpawner/CourseSpawner only pass them on as MEM_LIMIT/CPU_LIMIT variables and
# do NOT enforce them; SystemdSpawner (TLJH) and KubeSpawner (Z2JH) enforce both.
c.Spawner.mem_limit = os.environ.get("LABKIT_HUB_MEM_LIMIT", "3G")   # notebook 11 peaks at ~2.1 GB (workshop/README.md)
c.Spawner.cpu_limit = float(os.environ.get("LABKIT_HUB_CPU_LIMIT", "1"))


async def student_copy(spawner) -> None:
    """First login: write the learner's student copy with `labkit student`; later: keep their edits."""
    home = Path(spawner.home_dir)
    home.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "python"), "-m", "labkit", "student", "--out", str(home / "course"),
        cwd=str(ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=dict(os.environ, HOME=str(home), LABKIT_HOME=str(home / ".labkit")))
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    spawner.log.info("labkit student for %s:\n%s", spawner.user.name, text)
    if proc.returncode != 0:
        raise RuntimeError(f"labkit student failed for {spawner.user.name}: {text[-500:]}")


c.Spawner.pre_spawn_hook = student_copy

# ------------------------------------------------------------------ idle servers are stopped
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={IDLE_TIMEOUT}"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]
