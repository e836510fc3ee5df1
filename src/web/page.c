/* The page from its template (see page.h): index.html holds two markers, where the style and
 * the script go. */
#include "web/page.h"

#include <string.h>

/* Appends text up to `marker` (all of it when absent); returns what follows the marker. */
static const char *copy_to(web_buf *out, const char *text, const char *marker)
{
    const char *at = strstr(text, marker);
    if (!at) {
        web_buf_str(out, text);
        return text + strlen(text);
    }
    web_buf_add(out, text, (size_t)(at - text));
    return at + strlen(marker);
}

void web_page(web_buf *out, const char *report)
{
    const char *rest = copy_to(out, ganc_web_index_html, "<!--ganc:style-->");
    if (report) {
        web_buf_str(out, "<style>\n");
        web_buf_str(out, ganc_web_app_css);
        web_buf_str(out, "</style>");
    } else {
        web_buf_str(out, "<link rel=\"stylesheet\" href=\"app.css\">");
    }
    rest = copy_to(out, rest, "<!--ganc:script-->");
    if (report) {
        web_buf_str(out, "<script type=\"application/json\" id=\"ganc-report\">");
        web_buf_str(out, report); /* (its strings escape '<': see web_buf_json) */
        web_buf_str(out, "</script>\n<script>\n");
        web_buf_str(out, ganc_web_app_js);
        web_buf_str(out, "</script>");
    } else {
        web_buf_str(out, "<script src=\"app.js\"></script>");
    }
    web_buf_str(out, rest);
}
