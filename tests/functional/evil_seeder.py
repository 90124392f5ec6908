#!/usr/bin/python3
"""A seeder that serves garbage (python3-libtorrent, Debian's package), for
swarm_evil_seeder_test: a compromised member's address and swarm port, the version's
torrent, files of the right sizes full of random bytes, and libtorrent's hash checks
disabled so it sends them as if they were the data. A fedswarm node would not do
this: its seeds verify each piece before they first send it.

usage: evil_seeder.py TORRENT LISTEN_IP:PORT DIR SEED
Prints "listening" once the port is open, then serves until killed.
"""
import os
import random
import sys
import time

import libtorrent as lt


def main():
    torrent, listen, out_dir, seed = sys.argv[1:5]
    ip = listen.rsplit(":", 1)[0]
    ti = lt.torrent_info(torrent)
    rng = random.Random(int(seed))
    files = ti.files()
    for i in range(files.num_files()):
        if files.file_flags(i) & lt.file_storage.flag_pad_file:
            continue
        path = os.path.join(out_dir, files.file_path(i))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(rng.randbytes(files.file_size(i)))
    ses = lt.session({
        "listen_interfaces": listen, "outgoing_interfaces": ip,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "disable_hash_checks": True,
        "alert_mask": lt.alert_category.status | lt.alert_category.error,
    })
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = out_dir
    atp.flags = (atp.flags | lt.torrent_flags.seed_mode) & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
    ses.add_torrent(atp)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ses.wait_for_alert(200)
        for a in ses.pop_alerts():
            if isinstance(a, lt.listen_succeeded_alert):
                print("listening", flush=True)
                deadline = 0
            elif isinstance(a, lt.listen_failed_alert):
                print("listen failed: " + a.message(), file=sys.stderr, flush=True)
                sys.exit(1)
    while True:
        ses.wait_for_alert(1000)
        ses.pop_alerts()


if __name__ == "__main__":
    main()
