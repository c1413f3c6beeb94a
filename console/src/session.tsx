import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Api, type Scope } from "./api.ts";
import type { Environment, WhoAmI } from "./types.ts";

export interface Session {
  api: Api;
  whoami: WhoAmI | undefined;
  username: string;
  expiresAt: string;
  scope: Scope;
  /** A string that changes with the scope: pages reload their data when it does. */
  scopeKey: string;
  setScope: (s: Scope) => void;
  environments: Environment[] | undefined;
  environmentsError: string | undefined;
  reloadEnvironments: () => void;
  logout: (reason?: string) => void;
}

const Ctx = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error("no session");
  return s;
}

/**
 * The logged-in state: the token, the scope and the environments, all in React state.
 * Nothing is written to localStorage, sessionStorage or cookies.
 */
export function SessionProvider(p: {
  token: string;
  username: string;
  expiresAt: string;
  initialScope: Scope;
  onLogout: (reason?: string) => void;
  children: ReactNode;
}) {
  const [scope, setScope] = useState<Scope>(p.initialScope);
  const scopeRef = useRef(scope);
  scopeRef.current = scope;
  const api = useMemo(() => new Api(p.token, () => scopeRef.current, (m) => p.onLogout(m)), [p.token]); // eslint-disable-line react-hooks/exhaustive-deps
  const [whoami, setWhoami] = useState<WhoAmI>();
  const [environments, setEnvironments] = useState<Environment[]>();
  const [environmentsError, setEnvironmentsError] = useState<string>();
  const [envTick, setEnvTick] = useState(0);

  useEffect(() => {
    api.get<WhoAmI>("/v1/auth/whoami", undefined, { scoped: false }).then(setWhoami, () => undefined);
  }, [api]);
  useEffect(() => {
    api.get<{ environments: Environment[] }>("/v1/environments", { limit: 100 }, { scoped: false }).then(
      (r) => {
        setEnvironments(r.environments);
        setEnvironmentsError(undefined);
      },
      (e: Error) => setEnvironmentsError(e.message),
    );
  }, [api, envTick]);

  // The session ends when its token expires (1 hour): say so instead of failing calls.
  useEffect(() => {
    const ms = Date.parse(p.expiresAt) - Date.now();
    if (!Number.isFinite(ms)) return;
    const t = setTimeout(() => p.onLogout("Your session expired; log in again."), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    return () => clearTimeout(t);
  }, [p.expiresAt]); // eslint-disable-line react-hooks/exhaustive-deps

  const value: Session = {
    api,
    whoami,
    username: p.username,
    expiresAt: p.expiresAt,
    scope,
    scopeKey: `${scope.environment}|${scope.region}`,
    setScope,
    environments,
    environmentsError,
    reloadEnvironments: () => setEnvTick((t) => t + 1),
    logout: p.onLogout,
  };
  return <Ctx.Provider value={value}>{p.children}</Ctx.Provider>;
}
