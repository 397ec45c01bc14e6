//! The report as a standalone HTML page: its Markdown rendered by `pulldown-cmark` (tables
//! on). The Markdown holds no HTML of its own (log text has its `<`, `>` and `&` as entities);
//! should any reach the renderer, it is written as text, never as markup.

use pulldown_cmark::{Event, Options, Parser};

/// A page with `title` and the rendered `markdown`.
pub fn page(title: &str, markdown: &str) -> String {
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        other => other,
    });
    let mut body = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut body, events);
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:110em}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:.2em .5em;\
text-align:left;vertical-align:top}pre{background:#f4f4f4;padding:.5em;overflow-x:auto}";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_render_and_markup_stays_text() {
        let md = format!(
            "| a | b |\n| --- | --- |\n| {} | 2 |\n\n<script>x</script>\n",
            super::super::markdown::text("<img src=x>|y")
        );
        let html = super::page("r <1>", &md);
        assert!(
            html.contains("<table>") && html.contains("<td>2</td>"),
            "{html}"
        );
        assert!(html.contains("&lt;img src=x&gt;|y"), "{html}");
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("<title>r &lt;1&gt;</title>"), "{html}");
    }
}
