import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ENV } from '@aip/runtime';
import type { FastifyRequest } from 'fastify';
import type { AccessEnv } from '../access.config.ts';

/** The admin API takes its own token, compared in constant time. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly token: Buffer;

  constructor(@Inject(ENV) env: AccessEnv) {
    this.token = Buffer.from(env.ADMIN_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const presented = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    if (presented.length !== this.token.length || !timingSafeEqual(presented, this.token)) throw new UnauthorizedException('admin token required');
    return true;
  }
}
