/*
 * chart.c — the downloads-over-time chart of a package page: an inline SVG
 * drawn here, one bar per day, with a labelled scale. No script and no
 * library; colours come from the stylesheet (classes), so the page's CSP
 * needs no inline styles. The chart is an image to assistive technology,
 * with a title and a one-sentence description of the numbers.
 */
#include <inttypes.h>
#include <stdio.h>

#include "web.h"

#define W 320.0
#define HGT 150.0
#define LEFT 40.0
#define RIGHT 4.0
#define TOP 8.0
#define BOTTOM 22.0

/* The top of the scale: the smallest 2, 4 or 10 times a power of ten that is at least v, so the
 * half-way line is a whole number too. */
static int64_t nice_ceiling(int64_t v)
{
    for (int64_t p = 1;; p *= 10) {
        if (v <= 2 * p)
            return 2 * p;
        if (v <= 4 * p)
            return 4 * p;
        if (v <= 10 * p)
            return 10 * p;
        if (p > INT64_MAX / 100)
            return v + (v & 1);
    }
}

static const char *f1(arena *a, double v)
{
    return arena_printf(a, "%.1f", v);
}

void web_chart_svg(buf *b, arena *a, const int64_t *days, int n, const char *first_day, const char *last_day)
{
    int64_t max = 0, total = 0;
    for (int i = 0; i < n; i++) {
        total += days[i];
        if (days[i] > max)
            max = days[i];
    }
    int64_t top = nice_ceiling(max < 1 ? 1 : max);
    double pw = W - LEFT - RIGHT, ph = HGT - TOP - BOTTOM;
    H(b,
      "<svg class=\"chart\" viewBox=\"0 0 320 150\" role=\"img\" aria-labelledby=\"dl-title dl-desc\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title id=\"dl-title\">Downloads per day</title>"
      "<desc id=\"dl-desc\">From {} to {}: {} downloads in all; the busiest day had {}.</desc>",
      first_day, last_day, web_count(a, total), web_count(a, max));
    /* The scale: lines at 0, half and the top, labelled on the left. */
    for (int k = 0; k <= 2; k++) {
        double y = TOP + ph - ph * k / 2.0;
        H(b, "<line class=\"chart-grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", f1(a, LEFT), f1(a, y),
          f1(a, W - RIGHT), f1(a, y));
        H(b, "<text class=\"chart-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", f1(a, LEFT - 6),
          f1(a, y + 4), web_count(a, top * k / 2));
    }
    double bw = n > 0 ? pw / n : pw;
    for (int i = 0; i < n; i++) {
        if (days[i] <= 0)
            continue;
        double h = ph * (double)days[i] / (double)top;
        if (h < 1)
            h = 1;
        H(b, "<rect class=\"chart-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
          f1(a, LEFT + bw * i + 0.5), f1(a, TOP + ph - h), f1(a, bw > 2 ? bw - 1 : bw), f1(a, h));
    }
    H(b, "<line class=\"chart-axis\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", f1(a, LEFT), f1(a, TOP + ph),
      f1(a, W - RIGHT), f1(a, TOP + ph));
    H(b,
      "<text class=\"chart-label\" x=\"{}\" y=\"{}\">{}</text><text class=\"chart-label\" x=\"{}\" y=\"{}\" "
      "text-anchor=\"end\">{}</text></svg>",
      f1(a, LEFT), f1(a, HGT - 6), first_day, f1(a, W - RIGHT), f1(a, HGT - 6), last_day);
}
