// JIT linking: the dist FESM and @auth0/angular-jwt are partially compiled (ɵɵngDeclare*).
import './env.mjs';
import '@angular/compiler';
import { enableProdMode } from '@angular/core';

enableProdMode();
