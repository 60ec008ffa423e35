// Measures report.html as a browser lays it out. tests/test_phone.py appends this script to a copy of
// the page, shows it in a frame of the width to test, and reads the JSON it writes into the element
// "vg-probe" of the page around the frame: the viewport, the landmarks, every figure's visible drawing
// (its layout, where it sits, its smallest text in CSS px, any text it cuts off) and every element
// that scrolls, with whether the keyboard can reach it and its name.
(function () {
  "use strict";
  const round = (x) => Math.round(x * 100) / 100;

  function drawing(svg) {
    const box = svg.getBoundingClientRect();
    const view = svg.viewBox.baseVal;
    const scale = view && view.width ? box.width / view.width : 1;  // CSS px per SVG unit
    let smallest = Infinity;
    const cut = [];
    for (const el of svg.querySelectorAll("text, tspan")) {
      const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
      if (!own) continue;
      smallest = Math.min(smallest, parseFloat(getComputedStyle(el).fontSize) * scale);
      const r = el.getBoundingClientRect();
      if (r.width && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
                      || r.bottom > box.bottom + 1)) {
        cut.push(el.textContent.trim());
      }
    }
    return {layout: svg.getAttribute("class") || "", left: round(box.left), right: round(box.right),
            width: round(box.width), smallest_text_px: round(smallest), cut_text: cut};
  }

  const figures = [...document.querySelectorAll("figure.fig")].map((fig) => {
    const svgs = [...fig.querySelectorAll(":scope > .svg > svg")];
    return {id: fig.id, layouts: svgs.length,
            shown: svgs.filter((svg) => svg.getClientRects().length > 0).map(drawing)};
  });

  const scrollers = [];
  for (const el of document.querySelectorAll("body *")) {
    const style = getComputedStyle(el);
    const across = /(auto|scroll)/.test(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
    const down = /(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
    if (across || down) {
      scrollers.push({tag: el.tagName.toLowerCase(), class: el.getAttribute("class") || "",
                      tabindex: el.tabIndex, name: el.getAttribute("aria-label") || ""});
    }
  }

  const out = document.createElement("pre");
  out.id = "vg-probe";
  out.textContent = JSON.stringify({
    width: window.innerWidth,
    page_width: document.documentElement.scrollWidth,
    main: document.querySelectorAll("main").length,
    figures: figures,
    scrollers: scrollers,
  });
  // in a frame (a viewport narrower than the browser's window can be), the answer goes to the page around it
  (window.parent === window ? document : window.parent.document).body.appendChild(out);
})();
