"""JupyterHub for NI Academy labs: SSO through the LMS, one named server per lab, lab spec from the LMS.

Started by `python -m virtual_lab.hub` (which sets the environment below). Every port and URL comes from NIA_*
environment variables; secrets come from instance/hub/secrets.json (generated on first run, never in git) unless
given in the environment. Development default: SimpleLocalProcessSpawner (no isolation between learners!).
Production: NIA_HUB_SPAWNER=docker (DockerSpawner, see docs/) or Zero to JupyterHub (KubeSpawner).
"""
import os
import sys
from pathlib import Path

from virtual_lab.hub import hooks, settings
from virtual_lab.hub.secrets import load_or_create

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

conf = settings.from_env()
keys = load_or_create(conf.state_dir)

# --- network: proxy in front (public port), hub API behind it, proxy API on loopback -----------------------
c.JupyterHub.bind_url = conf.hub_public_url + "/"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{conf.hub_api_port}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{conf.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [str(settings.VENV_BIN / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(conf.state_dir / "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.auth_token = keys["proxy_token"]
c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 0}  # the API answers 202 at once; the LMS shows progress

# --- state and secrets ------------------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{conf.state_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret = bytes.fromhex(keys["cookie_secret"])
c.CryptKeeper.keys = [bytes.fromhex(os.environ.get("JUPYTERHUB_CRYPT_KEY") or keys["crypt_key"])]

# --- SSO: the LMS is the OpenID Connect provider --------------------------------------------------------
c.JupyterHub.authenticator_class = "generic-oauth"
c.GenericOAuthenticator.login_service = "NI Academy"
c.GenericOAuthenticator.client_id = conf.oidc_client_id
c.GenericOAuthenticator.client_secret = os.environ.get("NIA_OIDC_HUB_CLIENT_SECRET") or keys["oidc_client_secret"]
c.GenericOAuthenticator.oauth_callback_url = conf.hub_public_url + "/hub/oauth_callback"
c.GenericOAuthenticator.authorize_url = conf.lms_public_url + "/oauth/authorize"
c.GenericOAuthenticator.token_url = conf.lms_internal_url + "/oauth/token"
c.GenericOAuthenticator.userdata_url = conf.lms_internal_url + "/oauth/userinfo"
c.GenericOAuthenticator.scope = ["openid", "profile", "email", "groups"]
c.GenericOAuthenticator.username_claim = "preferred_username"
c.GenericOAuthenticator.enable_pkce = True
c.GenericOAuthenticator.manage_groups = True
c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"
c.GenericOAuthenticator.allowed_groups = {"enrolled", "instructor", "admin"}  # see lms/oidc/claims.py
c.GenericOAuthenticator.admin_groups = {"admin"}
c.Authenticator.enable_auth_state = True
c.Authenticator.auto_login = True
# After an LMS logout the LMS revokes the access token; the next refresh fails and the hub asks for a new login.
c.Authenticator.auth_refresh_age = conf.auth_refresh_age

# --- servers: one named server per lab --------------------------------------------------------------------
c.JupyterHub.allow_named_servers = True
c.JupyterHub.redirect_to_server = False  # the hub home lists the labs; labs are opened from the LMS
c.JupyterHub.named_server_limit_per_user = conf.named_server_limit
c.JupyterHub.spawner_class = conf.spawner
c.Spawner.cmd = [str(settings.VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90
c.Spawner.environment = hooks.base_environment(conf)
c.Spawner.pre_spawn_hook = hooks.make_pre_spawn_hook(conf, keys["lab_spec_secret"])
c.SimpleLocalProcessSpawner.home_dir_template = str(conf.state_dir / "home" / "{username}")
if conf.spawner == "docker":  # documented production path; needs `pip install dockerspawner` and a daemon
    c.DockerSpawner.image = os.environ.get("NIA_HUB_DOCKER_IMAGE", "quay.io/jupyter/scipy-notebook:2024-12-09")
    c.DockerSpawner.network_name = os.environ.get("NIA_HUB_DOCKER_NETWORK", "ni-academy")
    c.DockerSpawner.volumes = {str(conf.state_dir / "home" / "{username}"): "/home/jovyan/work"}
    c.DockerSpawner.notebook_dir = "/home/jovyan/work"
    c.JupyterHub.hub_connect_ip = os.environ.get("NIA_HUB_CONNECT_IP", "jupyterhub")

# --- services: the LMS (narrow role) and the idle culler --------------------------------------------------
c.JupyterHub.services = [
    {"name": "lms", "api_token": os.environ.get("NIA_HUB_API_TOKEN") or keys["lms_api_token"]},
    {"name": "idle-culler",
     "command": [sys.executable, "-m", "virtual_lab.hub.culler", f"--timeout={conf.cull_timeout}",
                 f"--cull-every={conf.cull_every}"]},
]
c.JupyterHub.load_roles = [
    # Create trainees' hub accounts, start/stop/read their servers, read their notebooks (submit), revoke tokens
    # at LMS logout. No group, role or admin rights.
    {"name": "lms-launcher", "services": ["lms"],
     "scopes": ["admin:users", "servers", "access:servers", "tokens"]},
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
]
c.JupyterHub.log_level = os.environ.get("NIA_HUB_LOG_LEVEL", "INFO")
c.JupyterHub.pid_file = str(conf.state_dir / "jupyterhub.pid")
Path(conf.state_dir).mkdir(parents=True, exist_ok=True)
