import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";
import type { Scope } from "./api.ts";
import { Layout } from "./layout.tsx";
import { LoginPage } from "./pages/login.tsx";
import { Router } from "./router.tsx";
import { SessionProvider } from "./session.tsx";
import { ToastHost } from "./ui.tsx";
import "./styles.css";

interface Auth {
  token: string;
  username: string;
  expiresAt: string;
  scope: Scope;
}

/**
 * The whole console. The session token is React state of this component only: a page
 * reload (or closing the tab) forgets it, which logs you out.
 */
function App() {
  const [auth, setAuth] = useState<Auth>();
  const [notice, setNotice] = useState<string>();
  if (!auth)
    return (
      <LoginPage
        notice={notice}
        onLoggedIn={(a) => {
          setNotice(undefined);
          setAuth(a);
        }}
      />
    );
  return (
    <SessionProvider
      key={auth.token}
      token={auth.token}
      username={auth.username}
      expiresAt={auth.expiresAt}
      initialScope={auth.scope}
      onLogout={(reason) => {
        setAuth(undefined);
        setNotice(reason);
      }}
    >
      <Layout />
    </SessionProvider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ToastHost>
      <Router>
        <App />
      </Router>
    </ToastHost>
  </StrictMode>,
);
