// The sign-in form: Cognito USER_PASSWORD_AUTH for every user, and the first sign-in's new-password step.
import { $, message, show } from "./core.js";
import { authenticate, saveSession, sessionOf } from "./session.js";

let challenge = null;  // a pending NEW_PASSWORD_REQUIRED challenge: {session, username}

async function signIn(event, onSignedIn) {
  event.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  if (!username || !password) { message("Enter your username and password.", "error"); return; }
  $("sign-in").disabled = true;
  try {
    const result = await authenticate(username, password, challenge, $("new-password").value);
    if (result.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      const params = result.ChallengeParameters || {};
      challenge = { session: result.Session, username: params.USER_ID_FOR_SRP || username };
      show($("new-password-field"), true);
      message("Your account needs a new password: choose one and sign in again.", "info");
      return;
    }
    if (!result.AuthenticationResult || !result.AuthenticationResult.IdToken) {
      throw new Error(`Sign-in needs a step this page does not support (${result.ChallengeName || "unknown"}).`);
    }
    challenge = null;
    show($("new-password-field"), false);
    $("password").value = "";
    $("new-password").value = "";
    const session = sessionOf(result.AuthenticationResult, username);
    saveSession(session);
    onSignedIn(session);
  } catch (err) {
    message(err.message || "Sign-in failed.", "error");
  } finally {
    $("sign-in").disabled = false;
  }
}

// `onSignedIn(session)` runs once Cognito answered with tokens (the session is already kept for reloads).
export function initSignIn(onSignedIn) {
  $("signin-form").addEventListener("submit", (event) => signIn(event, onSignedIn));
}
