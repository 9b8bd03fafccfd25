// The walkthrough's two demo pages (as its node apps served them).
export const PAGES = {
  app1: `<!DOCTYPE html>
<HTML>
<HEAD>
<TITLE>Hello from app1</TITLE>
</HEAD>
<BODY>
<H1>Hello from app1</H1>
<P>This is very minimal "hello world" HTML document.</P>
</BODY>
</HTML>
`,
  app2: `<!DOCTYPE html>
<HTML>
<HEAD>
<TITLE>A Small Hello</TITLE>
</HEAD>
<BODY>
<H1>A Small Hello</H1>
<P>This is very minimal "hello world" HTML document.</P>
</BODY>
</HTML>
`,
} as const;

export type PageName = keyof typeof PAGES;

export function isPageName(v: string): v is PageName {
  return v in PAGES;
}
