import { Global, Module } from '@nestjs/common';
import { KafkaConnection } from './kafka.provider';
import { MongoConnection } from './mongo.provider';

@Global()
@Module({ providers: [MongoConnection, KafkaConnection], exports: [MongoConnection, KafkaConnection] })
export class ConnectionsModule {}
