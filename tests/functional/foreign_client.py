#!/usr/bin/python3
"""A BitTorrent client outside the federation (python3-libtorrent, Debian's package),
used by swarm_access_test: it adds a .torrent exported from a node, connects to the
node's swarm endpoint by hand, and reports what happened as one JSON line.

usage: foreign_client.py TORRENT NODE_IP:PORT LISTEN_IP OUT_DIR TIMEOUT_S WATCH_S [partial]

It tries to download for at most TIMEOUT_S seconds (re-dialling the node every second),
then keeps listening for WATCH_S seconds more and counts the connections the node opens
to it (a node must never dial a foreign peer). Output:
{"complete": bool, "bytes": n, "incoming_from_node": n, "connected": bool}
"""
import json
import sys
import time

import libtorrent as lt


def main():
    torrent, node, listen_ip, out_dir, timeout_s, watch_s = sys.argv[1:7]
    # partial: stop (pause) once some bytes arrived, so the node knows a peer that is not
    # a seed and would dial it again if it dialled foreign peers at all.
    partial = len(sys.argv) > 7 and sys.argv[7] == "partial"
    node_ip, node_port = node.rsplit(":", 1)
    settings = {
        "listen_interfaces": listen_ip + ":0",
        "outgoing_interfaces": listen_ip,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "alert_mask": lt.alert_category.connect | lt.alert_category.status | lt.alert_category.error
                      | lt.alert_category.peer,
        "min_reconnect_time": 1,
    }
    if partial:
        settings["download_rate_limit"] = 64 * 1024
    ses = lt.session(settings)
    info = lt.torrent_info(torrent)
    h = ses.add_torrent({"ti": info, "save_path": out_dir})
    node_addr = (node_ip, int(node_port))
    incoming = 0
    connected = False
    deadline = time.monotonic() + float(timeout_s)
    while time.monotonic() < deadline:
        h.connect_peer(node_addr)
        for a in ses.pop_alerts():
            if isinstance(a, lt.peer_connect_alert):
                connected = True
        st = h.status()
        if st.is_seeding or (partial and st.total_done > 0):
            break
        ses.wait_for_alert(1000)
    st = h.status()
    complete = bool(st.is_seeding)
    if partial:
        h.pause()
    # Watch: the node must not dial us. An incoming connection from the node's address
    # shows as an incoming_connection_alert.
    watch_end = time.monotonic() + float(watch_s)
    while time.monotonic() < watch_end:
        ses.wait_for_alert(500)
        for a in ses.pop_alerts():
            if isinstance(a, lt.incoming_connection_alert) and a.endpoint[0] == node_ip:
                incoming += 1
    print(json.dumps({"complete": complete, "bytes": st.total_done, "incoming_from_node": incoming,
                      "connected": connected}))


if __name__ == "__main__":
    main()
