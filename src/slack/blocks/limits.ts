// Block Kit limits (docs.slack.dev/reference/block-kit). Builders stay inside them by construction;
// the fake Slack server in test/fake-slack keeps its own copy and rejects anything over.
export const LIMITS = {
  blocksPerMessage: 50,
  blocksPerView: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Top-level `text` of a message; Slack truncates after 40,000, we keep the fallback short. */
  messageText: 3000,
} as const;
