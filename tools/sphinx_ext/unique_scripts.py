"""Drop exact-duplicate <script> entries from every page.

With jupyter-book 1.0.4, sphinx-thebe registers its inline configuration script twice, so each
page declares `const THEBE_JS_URL` twice and the browser reports a SyntaxError in the console.
Sphinx's own de-duplication misses it because one copy has filename None and the other "".
Keeping the first copy of each (source, inline body) pair changes nothing else on the page.
"""


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # Inline scripts arrive with filename None from one extension and "" from another.
        key = (getattr(script, "filename", script) or "", repr(getattr(script, "attributes", {})))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # In place: handlers that run later (Sphinx's MathJax installer) append to this same list.
    scripts[:] = unique


def setup(app):
    # Early priority: handlers of this event stop at the first that returns a template name.
    app.connect("html-page-context", _drop_duplicate_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
