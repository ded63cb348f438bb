import type { Config } from '../../config/load.js';
import { contextBlock, header, message, type SlackMessage, section, sectionsFromLines } from './message.js';
import { escapeMrkdwn } from './text.js';

/** What may be shown about an endpoint: its name and redacted URL, never credentials. */
export interface EndpointSummary {
  name: string;
  redactedUrl: string;
  tls: boolean;
  cluster: boolean;
  description?: string;
}

export function endpointSummaries(
  config: Pick<Config, 'endpoints' | 'resolvedEndpoints'>,
): EndpointSummary[] {
  return [...config.resolvedEndpoints.values()]
    .map((ep) => {
      const summary: EndpointSummary = {
        name: ep.name,
        redactedUrl: ep.redactedUrl,
        tls: Boolean(ep.tls),
        cluster: ep.cluster,
      };
      const description = config.endpoints[ep.name]?.description;
      if (description) summary.description = description;
      return summary;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function endpointsMessage(endpoints: EndpointSummary[], configFile?: string): SlackMessage {
  if (endpoints.length === 0) {
    return message('No endpoints are configured.', [
      section(
        `No endpoints are configured${configFile ? ` in \`${escapeMrkdwn(configFile)}\`` : ''}. ` +
          'Add them under `endpoints:` in the config file and restart the app.',
      ),
    ]);
  }
  const lines = endpoints.map((ep) => {
    const flags = [ep.tls ? 'TLS' : '', ep.cluster ? 'cluster' : ''].filter(Boolean).join(', ');
    const details = [`\`${escapeMrkdwn(ep.redactedUrl)}\``, flags].filter(Boolean).join(' · ');
    const description = ep.description ? `\n      ${escapeMrkdwn(ep.description)}` : '';
    return `*${escapeMrkdwn(ep.name)}*  ${details}${description}`;
  });
  return message(`${endpoints.length} endpoints: ${endpoints.map((e) => e.name).join(', ')}`, [
    header(`Endpoints (${endpoints.length})`),
    ...sectionsFromLines(lines, 40, 'more endpoints'),
    contextBlock('Use these names in `/migrate plan <source> <target>`.'),
  ]);
}

/**
 * The refusal for endpoint names that are not in the config. The names typed are not repeated (a
 * password typed where a name goes looks like a name); the configured ones are listed instead.
 */
export function unknownEndpointRefusal(
  config: Pick<Config, 'file' | 'resolvedEndpoints'>,
  roles: readonly ('source' | 'target')[],
): { problem: string; next: string } {
  const which =
    roles.length === 2
      ? 'Neither the source nor the target is'
      : roles.length === 1
        ? `The ${roles[0]} is not`
        : 'That is not';
  const known = [...config.resolvedEndpoints.keys()].sort();
  return {
    problem: `${which} an endpoint in this app's config.`,
    next:
      known.length > 0
        ? `Known endpoints: ${known.map((k) => `\`${escapeMrkdwn(k)}\``).join(', ')} (\`/migrate endpoints\`).`
        : `No endpoints are configured in \`${escapeMrkdwn(config.file)}\`.`,
  };
}
