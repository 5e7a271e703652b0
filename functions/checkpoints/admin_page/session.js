// Signing in with Cognito (USER_PASSWORD_AUTH, and the first sign-in's NEW_PASSWORD_REQUIRED challenge), and the
// session kept in sessionStorage so a reload or a deep link opened in the same tab stays signed in.
import { getConfig } from "./core.js";

const SESSION_KEY = "agentJobs.session";

export function decodeJwt(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part + "===".slice((part.length + 3) % 4)), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (_err) {
    return {};
  }
}
function groupsOf(claims) {
  const raw = claims["cognito:groups"];
  if (Array.isArray(raw)) return raw.map(String);
  return typeof raw === "string" ? raw.replace(/[[\],]/g, " ").split(/\s+/).filter(Boolean) : [];
}

export async function cognito(target, body) {
  const response = await fetch(getConfig().cognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
    },
    body: JSON.stringify(body),
    credentials: "omit",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const kind = String(data.__type || "").split("#").pop();
    const text = kind === "NotAuthorizedException" ? "Incorrect username or password."
      : data.message || data.Message || `Sign-in failed (${response.status}).`;
    throw new Error(text);
  }
  return data;
}

// InitiateAuth, or the answer to a pending NEW_PASSWORD_REQUIRED challenge ({session, username}).
export function authenticate(username, password, challenge, newPassword) {
  const clientId = getConfig().clientId;
  if (challenge) {
    if (!newPassword) throw new Error("Choose a new password.");
    return cognito("RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED", ClientId: clientId, Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
    });
  }
  return cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH", ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password },
  });
}

// The session of Cognito's AuthenticationResult: the IdToken the API wants, and who it names.
export function sessionOf(auth, username) {
  const claims = decodeJwt(auth.IdToken);
  return {
    idToken: auth.IdToken, accessToken: auth.AccessToken || "", exp: Number(claims.exp || 0),
    username: claims["cognito:username"] || claims.email || username, sub: claims.sub || "",
    admin: groupsOf(claims).includes("admins"),
  };
}
export function saveSession(session) {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}
// The stored session: {session} when still valid, {expired: true} when it ran out, {} when there is none.
export function restoreSession() {
  let stored = null;
  try {
    stored = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch (_err) {
    stored = null;
  }
  if (!stored || !stored.idToken) return {};
  if (stored.exp && stored.exp * 1000 <= Date.now()) return { expired: true };
  return { session: sessionOf({ IdToken: stored.idToken, AccessToken: stored.accessToken }, stored.username) };
}
export function globalSignOut(session) {
  if (session && session.accessToken) {
    cognito("GlobalSignOut", { AccessToken: session.accessToken }).catch(() => undefined);
  }
}
