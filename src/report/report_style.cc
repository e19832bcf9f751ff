// The review report's style sheet (see report_page.h). Plain CSS, no
// external fonts or images; the policy admits it by its hash.
#include "report/report_page.h"

namespace groundcap {

std::string_view ReportStyle() {
  static constexpr std::string_view kStyle = R"CSS(
:root {
  --bg: #f4f5f7; --card: #fff; --ink: #1d2330; --muted: #667085; --line: #e3e6ec;
  --ok: #1f8a4c; --failed: #c4352b; --flagged: #b7791f; --accent: #3056d3;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
.top { padding: 18px 28px 6px; }
.top h1 { margin: 0; font-size: 20px; font-weight: 650; letter-spacing: -0.01em; }
.top h1 .title { color: var(--muted); font-weight: 500; }
.top p { margin: 2px 0 0; color: var(--muted); font-size: 12.5px; }
#summary { padding: 8px 28px 14px; display: grid; gap: 14px; grid-template-columns: minmax(0, 1.5fr) minmax(0, 1fr) minmax(0, 1fr); }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-width: 0; }
.panel h2 { margin: 0 0 8px; font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(104px, 1fr)); gap: 8px; }
.tile { border-radius: 8px; background: #f7f8fa; padding: 7px 9px; }
.tile b { display: block; font-size: 19px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile span { color: var(--muted); font-size: 12px; }
.tile.ok b { color: var(--ok); } .tile.failed b { color: var(--failed); } .tile.flagged b { color: var(--flagged); }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 10px; }
.chip { border: 1px solid var(--line); background: #fff; border-radius: 999px; padding: 2px 9px; font: inherit; font-size: 12px; color: var(--ink); }
button.chip { cursor: pointer; } button.chip:hover { border-color: var(--accent); color: var(--accent); }
.chip.bad { border-color: #f0c4c0; background: #fdf1f0; color: var(--failed); }
.chip.warn { border-color: #f0dcb4; background: #fdf7ec; color: var(--flagged); }
.hist { display: flex; align-items: flex-end; gap: 4px; height: 92px; padding-top: 14px; }
.hist .bar { flex: 1; display: flex; flex-direction: column; justify-content: flex-end; align-items: center; height: 100%; min-width: 0; }
.hist .bar i { display: block; width: 100%; background: linear-gradient(#6d8cf0, #3056d3); border-radius: 3px 3px 0 0; min-height: 1px; }
.hist .bar em { font-style: normal; font-size: 10.5px; color: var(--muted); font-variant-numeric: tabular-nums; }
.hist-labels { display: flex; gap: 4px; font-size: 10.5px; color: var(--muted); margin-top: 3px; }
.hist-labels span { flex: 1; text-align: center; min-width: 0; }
.hist-title { font-size: 12px; color: var(--muted); margin: 8px 0 0; }
table.eval { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
table.eval td { padding: 2px 0; border-bottom: 1px solid var(--line); }
table.eval td:last-child { text-align: right; font-weight: 600; }
.note { color: var(--muted); font-size: 12px; margin: 8px 0 0; }
#controls { position: sticky; top: 0; z-index: 5; display: flex; flex-wrap: wrap; align-items: center; gap: 8px 14px;
  padding: 10px 28px; background: rgba(244, 245, 247, .96); border-bottom: 1px solid var(--line); backdrop-filter: blur(4px); }
#controls label { display: inline-flex; align-items: center; gap: 6px; font-size: 13px; color: #344054; }
#controls select, #controls input[type=search] { font: inherit; font-size: 13px; padding: 4px 8px; border: 1px solid #cfd4dc; border-radius: 6px; background: #fff; color: var(--ink); }
#controls input[type=search] { width: 230px; }
#controls input[type=range] { width: 110px; accent-color: var(--accent); }
#controls output { font-variant-numeric: tabular-nums; min-width: 2.6em; }
#controls .count { margin-left: auto; color: var(--muted); font-size: 12.5px; }
#controls .hidden { display: none; }
#list { padding: 14px 28px 6px; display: grid; gap: 14px; }
.empty { text-align: center; color: var(--muted); padding: 48px 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; overflow: hidden; box-shadow: 0 1px 2px rgba(16, 24, 40, .04); }
.card.st-failed { border-left: 4px solid var(--failed); }
.card.st-flagged { border-left: 4px solid var(--flagged); }
.card-head { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; padding: 9px 14px; border-bottom: 1px solid var(--line); background: #fafbfc; }
.card-head .idx { color: var(--muted); font-variant-numeric: tabular-nums; font-size: 12px; }
.card-head .sid { font-weight: 600; overflow-wrap: anywhere; }
.card-head .path { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.card-head .right { margin-left: auto; display: flex; gap: 6px; flex-wrap: wrap; }
.badge { border-radius: 5px; padding: 1px 7px; font-size: 11.5px; font-weight: 650; text-transform: uppercase; letter-spacing: .03em; }
.badge.ok { background: #e5f4eb; color: var(--ok); } .badge.failed { background: #fbe7e5; color: var(--failed); }
.badge.flagged { background: #fcf1dc; color: var(--flagged); } .badge.other { background: #eceff3; color: var(--muted); }
.card-body { display: flex; gap: 18px; padding: 14px; align-items: flex-start; }
.frame { position: relative; flex: none; background: #e9ecf1; border-radius: 6px; overflow: hidden; }
.frame img { position: absolute; left: 0; top: 0; width: 100%; height: 100%; display: block; }
.frame svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; overflow: visible; }
.frame.noimg::after { content: "image not available"; position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: var(--muted); font-size: 12px; }
.frame.nosize { width: 200px; height: 120px; }
rect.box { fill: transparent; stroke: var(--c); stroke-width: 2.5; vector-effect: non-scaling-stroke; filter: drop-shadow(0 0 1.2px rgba(0, 0, 0, .7)); outline: none; transition: stroke-width .08s; }
rect.box.rejected { stroke-dasharray: 6 4; }
.frame .lbl { position: absolute; transform: translateY(-100%); background: var(--c); color: #fff; font-size: 10.5px; font-weight: 700; line-height: 1; padding: 2px 4px; border-radius: 3px 3px 3px 0; pointer-events: none; white-space: nowrap; }
.frame .lbl.inside { transform: none; border-radius: 0 0 3px 0; }
.card.hot rect.box { opacity: .22; } .card.hot .frame .lbl { opacity: .22; }
.card.hot rect.box.on { opacity: 1; stroke-width: 4; fill: rgba(255, 255, 255, .16); } .card.hot .frame .lbl.on { opacity: 1; }
.info { flex: 1; min-width: 0; }
.caption { margin: 0 0 10px; font-size: 15px; line-height: 1.6; white-space: pre-wrap; overflow-wrap: anywhere; }
.caption .none { color: var(--muted); font-style: italic; }
mark.span { background: color-mix(in srgb, var(--c) 16%, transparent); color: inherit; border-bottom: 2px solid var(--c); border-radius: 2px; padding: 0 1px; cursor: default; outline: none; }
.card.hot mark.span.on { background: color-mix(in srgb, var(--c) 38%, transparent); }
.sub { color: var(--muted); font-size: 12.5px; margin: -4px 0 10px; overflow-wrap: anywhere; }
.sub b { font-weight: 600; }
ol.items { list-style: none; margin: 0; padding: 0; display: grid; gap: 3px; }
ol.items li { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 8px; padding: 3px 6px; border-radius: 6px; outline: none; }
ol.items li.on { background: color-mix(in srgb, var(--c) 12%, transparent); }
ol.items .sw { width: 10px; height: 10px; border-radius: 3px; background: var(--c); flex: none; align-self: center; }
ol.items .lb { font-weight: 700; color: var(--c); font-variant-numeric: tabular-nums; }
ol.items .t { overflow-wrap: anywhere; }
ol.items .meta { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
ol.items .rc { color: var(--muted); text-decoration: line-through; font-size: 12.5px; overflow-wrap: anywhere; }
.tag { font-size: 11px; border-radius: 4px; padding: 0 5px; background: #eceff3; color: #475467; }
.tag.bad { background: #fbe7e5; color: var(--failed); } .tag.warn { background: #fcf1dc; color: var(--flagged); }
.error { background: #fdf1f0; border: 1px solid #f3cdc9; border-radius: 8px; padding: 8px 10px; margin: 0 0 10px; overflow-wrap: anywhere; }
.error b { color: var(--failed); margin-right: 6px; }
.notes { margin: 10px 0 0; padding: 0; list-style: none; font-size: 12.5px; color: #475467; }
.notes li { padding: 2px 0 2px 16px; position: relative; overflow-wrap: anywhere; }
.notes li::before { content: "!"; position: absolute; left: 2px; font-weight: 700; color: var(--flagged); }
.notes li.flag::before { content: "\2691"; }
.links { margin-top: 10px; font-size: 12px; display: flex; gap: 12px; }
.links a { color: var(--accent); text-decoration: none; } .links a:hover { text-decoration: underline; }
#pager { display: flex; justify-content: center; align-items: center; gap: 14px; padding: 14px 0 34px; color: var(--muted); }
#pager button { font: inherit; padding: 5px 14px; border-radius: 6px; border: 1px solid #cfd4dc; background: #fff; color: var(--ink); cursor: pointer; }
#pager button:disabled { opacity: .45; cursor: default; }
@media (max-width: 900px) { #summary { grid-template-columns: 1fr; } .card-body { flex-direction: column; } }
)CSS";
  return kStyle;
}

}  // namespace groundcap
