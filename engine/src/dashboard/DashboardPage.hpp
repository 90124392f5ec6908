// DashboardPage: the node's dashboard at `/` — one self-contained HTML page (its CSS and
// JavaScript inline, written in the project: no CDN, no font, no image from anywhere,
// so it works on a site's isolated network). Every few seconds it reads the node's JSON
// API (DashboardApi.hpp) and shows the federation's sites (tier, state, catalog lag,
// capacity and fill), the compliance summary with the violating versions a page at a
// time, this node's transfers (progress, rates, ETA), recent retractions, refusals by
// reason and banned peers. It shows summaries and pages only, so it stays readable
// and cheap at 1 M versions.
//
// Contract: pure; any thread. The answer carries Cache-Control: no-store and a
// Content-Security-Policy that allows nothing but this page and same-origin requests.
#pragma once

#include "http/HttpAnswer.hpp"

namespace fedswarm {

HttpAnswer dashboard_page();

}  // namespace fedswarm
