/* The dashboard page: src/web/assets/ (index.html, app.css, app.js) compiled in by the Makefile
 * ($(BUILD)/web_assets.c), so that ganc needs no file beside it and no network. */
#ifndef GANC_WEB_PAGE_H
#define GANC_WEB_PAGE_H

#include "web/buf.h"

extern const char ganc_web_index_html[], ganc_web_app_css[], ganc_web_app_js[];

/* The page. Served (report NULL): it loads app.css and app.js from the server and asks it for
 * the runs. A report: the style and script inside, and report (a JSON object: the runs with
 * their log, grids as data: URIs and metadata) in a <script type="application/json">, which the
 * script reads instead of asking a server. */
void web_page(web_buf *out, const char *report);

#endif
